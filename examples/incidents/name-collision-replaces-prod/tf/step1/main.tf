# The production time-series database and its volume.
resource "terraform_data" "tsdb" {
  triggers_replace = ["tsdb-prod-a"]
  input = { type = "aws_db_instance", values = { _forces = "identifier", identifier = "tsdb-prod-a", engine = "postgres", tags = { env = "production" }, tags_all = { env = "production" } } }
}
resource "terraform_data" "volume" {
  input = { type = "aws_ebs_volume", values = { size = 500, tags = { env = "production" } } }
}
