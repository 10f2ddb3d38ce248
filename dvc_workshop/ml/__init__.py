"""The ML ideas of the pipeline: image transforms, the model, the metrics."""
