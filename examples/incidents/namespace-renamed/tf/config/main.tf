# "Fixing" the argument renames the namespace: a replacement, so a delete of argocd.
resource "terraform_data" "namespace" {
  triggers_replace = ["data-pipelines"]
  input = { type = "kubernetes_namespace_v1", values = { _forces = "metadata.0.name", metadata = [{ name = "data-pipelines", labels = { team = "data" } }] } }
}
