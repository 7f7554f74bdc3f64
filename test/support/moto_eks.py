"""moto_server for the tests, with one change: a cluster whose name does not start with "raw-" gets the endpoint and
CA written in the JSON file MOTO_EKS_SEED ({"endpoint": ..., "caData": ...}) when it is created, instead of moto's
random ones, so that DescribeCluster points at a local API stand-in. The file is read at each creation, so a test can
recreate a cluster with another endpoint or CA. Everything else, the wire protocol, signing, errors, is moto's own.

Usage: MOTO_EKS_SEED=seed.json python3 moto_eks.py -H 127.0.0.1 -p PORT
"""

import json
import os
import sys

from moto.eks import models
from moto.server import main

_original_init = models.Cluster.__init__


def _seeded_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if not self.name.startswith("raw-"):
        with open(os.environ["MOTO_EKS_SEED"], encoding="utf-8") as handle:
            seed = json.load(handle)
        self.endpoint = seed["endpoint"]
        self.certificate_authority = {"data": seed["caData"]}


models.Cluster.__init__ = _seeded_init

if __name__ == "__main__":
    main(sys.argv[1:])
