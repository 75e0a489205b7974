terraform {
  # No provider: this module is pure computation, so `terraform validate` and `terraform test`
  # run on it offline (CI does both).
  required_version = ">= 1.9" # validations that compare variables
}
