"""What the training commands share (train_model.py, export_model.py, fine_tune.py,
train_reject.py, train_count.py): one configuration (config.py), MNIST (data.py), the
networks (networks.py), the augmentation pipeline (augment.py), and the export to LiteRT
with its test (export.py); the "not a digit" model's data (reject_data.py) and digits as
other people write them (pen_variants.py); and the UNIPEN extractor (unipen.py). The app
never imports this package."""
