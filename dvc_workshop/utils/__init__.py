"""Scripts kept for the original workshop handout, whose commands name them as printed."""
