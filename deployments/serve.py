"""Entry point for `python deployments/serve.py`: the same as `junkan serve`, with its checks and messages."""

import sys

from junkan.cli import main

if __name__ == "__main__":
    sys.argv[1:] = ["serve", *sys.argv[1:]]
    main()
