from dms.cli import main

main()
