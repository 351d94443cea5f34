"""What the training commands share (train_model.py, export_model.py, fine_tune.py,
train_reject.py, train_count.py): their configuration, the MNIST augmentation pipeline, and
the export to LiteRT with its test. The app never imports this package."""
