from aftersales.cli import main

main()
