from services.reporting.bootstrap import main

if __name__ == "__main__":  # not when a worker process (the rebuild's) imports it as __mp_main__
    main()
