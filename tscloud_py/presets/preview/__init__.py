"""Preview stages: one bucket, distribution, wildcard certificate, record, KeyValueStore and CloudFront
Function per app (the host, `tscloud preview setup`), and per stage only a prefix of the bucket and one
key in the store (`tscloud preview deploy NAME`)."""
