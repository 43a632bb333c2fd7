"""Local work: file hashing and sync plans, zips, images, Nitro builds, layers."""
