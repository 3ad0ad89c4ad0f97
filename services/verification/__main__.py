from services.verification.bootstrap import main

main()
