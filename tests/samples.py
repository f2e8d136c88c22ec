"""Small inputs shared by several test modules."""

# AWS001 (error) and AWS019 (error) on line 7; AWS002 does not fire (an `aud` condition exists).
BAD_TRUST = """{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "*"}}
  }
}
"""
