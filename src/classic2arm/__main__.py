from classic2arm.cli.main import main

main()
