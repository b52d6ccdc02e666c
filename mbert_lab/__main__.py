import sys

from mbert_lab.cli import main

sys.exit(main())
