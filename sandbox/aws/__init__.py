"""The faked AWS services, one module or folder each, as moto lays out its own.

Each patch is a function named for the AWS behaviour it reproduces, with a docstring citing AWS's
documentation; sandbox/install.py applies them all, in order, once per process.
"""
