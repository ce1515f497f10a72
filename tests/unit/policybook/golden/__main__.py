from tests.unit.policybook.golden import main

main()
