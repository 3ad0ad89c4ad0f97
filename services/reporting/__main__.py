from services.reporting.bootstrap import main

main()
