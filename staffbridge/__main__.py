from staffbridge.faces.cli.main import run

run()
