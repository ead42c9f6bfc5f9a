from invert3d.cli import main

main()
