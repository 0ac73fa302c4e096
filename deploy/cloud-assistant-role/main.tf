# Cloud Assistant's service-linked role for output delivery (AliyunServiceRoleForECSArchiving):
# declared so a new account's first run with an output bucket finds it. We found no documented ROS
# resource type for service-linked roles (Terraform's alicloud provider documents this one), so this
# small stack is Terraform, which the `ros` component deploys through ROS (s.yaml: cloud-assistant-role). The functions' role may still create it
# (ram:CreateServiceLinkedRole for this service name only) where this stack was not deployed.
resource "alicloud_resource_manager_service_linked_role" "cloud_assistant_output_delivery" {
  service_name = "archiving.ecs.aliyuncs.com"
}
