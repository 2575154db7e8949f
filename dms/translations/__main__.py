import sys

from dms.translations.tool import main

sys.exit(main(sys.argv[1:]))
