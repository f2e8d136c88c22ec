"""The resource model shared by file loaders and live collectors. Imports nothing else of xfedlint."""
