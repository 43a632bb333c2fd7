"""Local work: asset hashing and sync plans, images, Nitro output, zips and layers."""
