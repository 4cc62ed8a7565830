import sys

from content.cli import main

sys.exit(main())
