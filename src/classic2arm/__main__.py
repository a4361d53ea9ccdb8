from classic2arm.cli.main import run

run()
