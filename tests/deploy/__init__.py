"""Tests of the deployment files: Dockerfile, .dockerignore, compose and Kubernetes manifests."""
