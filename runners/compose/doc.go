// Package compose runs a plan's nodes as containers of one Docker Compose
// project per run, from the node image of package nodeimage.
package compose
