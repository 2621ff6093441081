import sys

from usegan.cli import main

sys.exit(main())
