# The staging environment, which the staging project really manages.
resource "terraform_data" "cluster" {
  input = {
    type   = "aws_eks_cluster"
    values = { name = "rosey-staging", version = "1.29", tags = { env = "staging", team = "platform" }, tags_all = { env = "staging", team = "platform" } }
  }
}

resource "terraform_data" "nodes" {
  count = 3
  input = {
    type   = "aws_eks_node_group"
    values = { cluster_name = "rosey-staging", node_group_name = "rosey-staging-${count.index}", tags = { env = "staging" }, tags_all = { env = "staging" } }
  }
}

resource "terraform_data" "redis_peering" {
  input = {
    type   = "aws_vpc_peering_connection"
    values = { peer_vpc_id = "vpc-0redis", vpc_id = "vpc-0staging", tags = { Name = "staging-to-redis", Environment = "staging" }, tags_all = { Name = "dev-to-redis", Environment = "staging" } }
  }
}
