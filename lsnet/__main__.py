"""``python -m lsnet``: the ``lsnet`` command."""
from lsnet.cli import main

main()
