"""moto_server for the tests, with one change: a cluster whose name does not start with "raw-" gets the endpoint and
CA from MOTO_EKS_ENDPOINT and MOTO_EKS_CA_DATA instead of moto's random ones, so that DescribeCluster can point at
the local API stand-in. Everything else, the wire protocol, signing, errors, is moto's own.

Usage: python3 moto_eks.py -H 127.0.0.1 -p PORT
"""

import os
import sys

from moto.eks import models
from moto.server import main

_original_init = models.Cluster.__init__


def _seeded_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if not self.name.startswith("raw-"):
        self.endpoint = os.environ["MOTO_EKS_ENDPOINT"]
        self.certificate_authority = {"data": os.environ["MOTO_EKS_CA_DATA"]}


models.Cluster.__init__ = _seeded_init

if __name__ == "__main__":
    main(sys.argv[1:])
