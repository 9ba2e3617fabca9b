# Leftover configuration pointed the staging trial at the namespace `production`.
resource "terraform_data" "namespace" {
  triggers_replace = ["production"]
  input = { type = "kubernetes_namespace_v1", values = { _forces = "metadata.0.name", metadata = [{ name = "production", labels = { "app.kubernetes.io/managed-by" = "terraform" } }] } }
}
resource "terraform_data" "api" {
  input = { type = "kubernetes_deployment_v1", values = { metadata = [{ name = "api", namespace = "production", labels = { app = "api" } }], spec = [] } }
}
resource "terraform_data" "api_secrets" {
  input = { type = "kubernetes_secret_v1", values = { metadata = [{ name = "api-env", namespace = "production", labels = {} }], data = {} } }
}
