import sys

from bantz_voice.cli import main

sys.exit(main())
