"""`python -m wdlab run ...`"""
import sys

from wdlab.cli.main import main

if __name__ == "__main__":  # not when a worker process of `wdlab run --workers N` imports the main module
    sys.exit(main())
