from tscloud_py.cli.main import main

main()
