"""``python -m dms.sample_data OUT_DIR [--customers N] [--seed S] [--pages N]``"""
import sys

from dms.sample_data.corpus import main

sys.exit(main())
