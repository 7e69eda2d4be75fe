"""Sightline's AWS infrastructure: one CDK stack that defines every resource the app uses."""
