"""What configurations mean: IAM condition semantics, CEL, issuers and audiences, Kubernetes tokens.

Pure functions over the model; no I/O. Checks ask these modules questions instead of splitting strings.
"""
