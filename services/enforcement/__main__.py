from services.enforcement.bootstrap import main

main()
