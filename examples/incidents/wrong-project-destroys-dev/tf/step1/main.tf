# What the dev environment looks like before the mistake: its EKS cluster, nodes, and the
# VPC peering to the shared Redis cluster (incident 3's second failure).
resource "terraform_data" "cluster" {
  input = {
    type   = "aws_eks_cluster"
    values = { name = "rosey-dev", version = "1.29", tags = { env = "dev", team = "platform" }, tags_all = { env = "dev", team = "platform" } }
  }
}

resource "terraform_data" "nodes" {
  count = 3
  input = {
    type   = "aws_eks_node_group"
    values = { cluster_name = "rosey-dev", node_group_name = "rosey-dev-${count.index}", tags = { env = "dev" }, tags_all = { env = "dev" } }
  }
}

resource "terraform_data" "redis_peering" {
  input = {
    type   = "aws_vpc_peering_connection"
    values = { peer_vpc_id = "vpc-0redis", vpc_id = "vpc-0dev", tags = { Name = "dev-to-redis", Environment = "dev" }, tags_all = { Name = "dev-to-redis", Environment = "dev" } }
  }
}
