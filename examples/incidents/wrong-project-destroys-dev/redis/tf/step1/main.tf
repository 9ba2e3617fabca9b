# The shared Redis project before the pull request: the cluster, the accepter side of the
# peering that the dev VPC requested, and the route to the dev VPC through that peering. The
# peering connection's id and the dev VPC's id are those of ../../plan.json.
locals {
  peering = "eb7450a3-02e2-1f07-941d-da3b628ebf0b"
  dev_vpc = "vpc-0dev"
}

resource "terraform_data" "redis" {
  input = {
    type   = "aws_elasticache_replication_group"
    values = { replication_group_id = "redis-shared", engine = "redis", tags = { team = "data" }, tags_all = { team = "data" } }
  }
}

resource "terraform_data" "dev" {
  input = {
    type   = "aws_vpc_peering_connection_accepter"
    values = { id = local.peering, vpc_peering_connection_id = local.peering, auto_accept = true, vpc_id = "vpc-0redis", peer_vpc_id = local.dev_vpc, tags = { Name = "redis-to-dev" }, tags_all = { Name = "redis-to-dev" } }
  }
}

resource "terraform_data" "to_dev" {
  input = {
    type   = "aws_route"
    values = { route_table_id = "rtb-0redis-private", destination_cidr_block = "10.10.0.0/16", vpc_peering_connection_id = local.peering }
  }
  depends_on = [terraform_data.dev]
}
