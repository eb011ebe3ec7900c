"""Jiuyuan's HTTP service, command line and storage."""
