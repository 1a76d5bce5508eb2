"""The toy accelerator: a fourth accelerator kept out of tree, registered by TANDEM_ACCELERATORS=tests.toy.toy."""
