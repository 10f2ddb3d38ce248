"""dvc-workshop: a real DVC pipeline that trains an MNIST classifier, for learning DVC hands-on."""
