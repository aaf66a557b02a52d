"""One module per Vigie dashboard, each with `board()` returning a common.Board; the file
name is the uid without `vigie-` (vigie-host → host.json). dashboards/generate.py writes them."""
BOARDS = ["host", "docker", "mysql", "mongodb", "jvm", "pm2", "nginx", "overview", "incidents"]
