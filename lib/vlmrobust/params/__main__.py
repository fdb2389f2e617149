"""``python -m vlmrobust.params check params/demo.yaml``"""

from . import main

raise SystemExit(main())
