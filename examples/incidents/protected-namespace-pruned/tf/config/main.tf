# The trial moved to its own namespace: the old objects are pruned.
resource "terraform_data" "namespace" {
  triggers_replace = ["staging-trial"]
  input = { type = "kubernetes_namespace_v1", values = { _forces = "metadata.0.name", metadata = [{ name = "staging-trial", labels = { env = "staging" } }] } }
}
