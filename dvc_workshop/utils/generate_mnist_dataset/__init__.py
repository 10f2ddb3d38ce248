"""The handout's download script: `python -m dvc_workshop.utils.generate_mnist_dataset` (see __main__.py)."""
