# Generated configuration gave a new object the same resource name; the last definition won.
resource "terraform_data" "tsdb" {
  triggers_replace = ["tsdb-new-tenant"]
  input = { type = "aws_db_instance", values = { _forces = "identifier", identifier = "tsdb-new-tenant", engine = "postgres", tags = { env = "production" }, tags_all = { env = "production" } } }
}
resource "terraform_data" "volume" {
  input = { type = "aws_ebs_volume", values = { size = 500, tags = { env = "production" } } }
}
