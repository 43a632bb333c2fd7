from tscloud_py.cli import main

main()
