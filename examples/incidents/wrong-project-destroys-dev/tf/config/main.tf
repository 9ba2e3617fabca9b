# The project's configuration after the copy-pasted teardown: everything removed.
terraform {}
