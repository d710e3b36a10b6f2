"""Registers ecological resources, their geometry, tenure rights and encumbrances. Models arrive with the features that need them."""
